"""The staff's pages: instructeurs, financers, the contract's team, and the dashboard."""
