"""Delivery channels for reminders: email over SMTP, the WeCom group robot, files.

Each one implements `delivery.Channel`. Settings that are secrets (SMTP
password, the robot's webhook key) come from environment variables only,
never from a file in the tree.
"""
