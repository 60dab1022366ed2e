"""State changes, one module per area: each decides (pure domain logic), appends
durably, and only then do events go out."""
