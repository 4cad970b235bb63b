"""The `municloud` operator CLI."""
