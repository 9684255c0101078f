"""Networks from the solutions of the programs: convex recovery, CP factors, rounding."""
