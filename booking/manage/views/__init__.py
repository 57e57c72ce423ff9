"""The /manage/ pages, one small module per area."""
