"""Path kernels: random streams, correlated GBM with jumps, private marks, price impact."""
