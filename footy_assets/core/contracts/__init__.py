"""pandera (polars) contracts: each vendor's parsed rows and each table footy_assets writes."""
