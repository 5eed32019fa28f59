"""Orders: checkout from the cart, order history, and the order lifecycle."""
