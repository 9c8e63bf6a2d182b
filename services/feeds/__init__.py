"""Feeds (subscriptions): who gets pushed what. No aiogram here."""
