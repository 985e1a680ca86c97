"""Scanning: turn what a barcode scanner or a camera sent into typed fields (rules) and, later, entities."""
