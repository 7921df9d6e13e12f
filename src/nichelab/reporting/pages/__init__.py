"""One module per study: ``page(result) -> Report`` and ``summary_table(result) -> Table``."""
