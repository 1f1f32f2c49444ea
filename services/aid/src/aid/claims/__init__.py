"""Mutual-aid claims without paperwork (免审即享): claim → condolence → relief (理赔 → 慰问 → 救助).

rules: the pure rules. desk: what the use cases share, and the one way a payout changes.
settlements: the bureau's settlements in. review: staff decisions, members' own claims, relief
outcomes. payments: money out through a channel. queries, api: reading and HTTP. reconcile: the
operator's check of payments against the channel.
"""
