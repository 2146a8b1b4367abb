"""Community: likes, threaded comments, reports, and moderation beyond screening (hide, restore,
appeal, anti-spam caps). docs/community.md states the rules and limits."""
