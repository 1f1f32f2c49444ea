"""gonghui notify service: notices to members and staff."""
