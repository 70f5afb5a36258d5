"""Webhooks: a meeting's or a series' deliveries to chat tools and scripts (tables, payloads, addresses, the sender)."""
