"""What the tests and the benchmark share: the loopback fake Mastodon."""
