"""The shopping cart: guests' carts in Redis, signed-in shoppers' carts in PostgreSQL."""
