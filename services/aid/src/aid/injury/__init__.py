"""Work injuries (工伤探视, "逢伤必探"): intake, dispatch, the visit, follow-ups, deadlines.

rules: the pure rules. desk: what the use cases share. intake, dispatch, visits, follow_ups,
deadlines: the use cases. queries and api: reading and HTTP. registry and visitor_index: the
hospitals, the visitors, where they are and how busy.
"""
