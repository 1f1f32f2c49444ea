"""gonghui legal service: labour disputes and legal aid."""
