"""Pure domain logic: state folds and command decisions. No I/O, no Starlette, no store."""
