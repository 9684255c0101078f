"""copos's own splitting methods; they work on the operators a relaxation hands them."""
