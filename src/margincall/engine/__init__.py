"""The day loop: covenants, borrower response, liquidation, contagion."""
