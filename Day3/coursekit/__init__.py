"""coursekit: the small shared toolkit behind the Day 3 scripts (profiles, Hub, tiny zoo, data)."""
