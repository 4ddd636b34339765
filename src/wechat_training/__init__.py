"""Compliance training on company WeChat / WeCom usage rules."""

__version__ = "0.1.0"
