"""Labels feature: choose what to print, preview, download the PDF or send ZPL to a printer."""
