"""Repositories: data access over one AsyncSession; they never commit."""
