"""gonghui skills service: craftsmen, competitions and courses."""
