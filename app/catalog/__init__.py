"""The catalog: categories, products, stock and full-text search."""
