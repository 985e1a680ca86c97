"""Stock: the catalog, lots and expiry, the movement ledger, counts, wastage and recalls."""
