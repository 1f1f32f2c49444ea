"""gonghui aid service: mutual-aid insurance and work-injury visits."""
