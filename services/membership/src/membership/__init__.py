"""gonghui membership service: joining, transfers, leaving, coverage."""
