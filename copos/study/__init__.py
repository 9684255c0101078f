"""Studies of tightness: every bound on one problem side by side, and its report."""
