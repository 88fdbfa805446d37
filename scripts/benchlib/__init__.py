"""The parts of scripts/bench: a latency proxy, real registries, seeded images, timed runs,
the curl limits, the cases and the report.  Standard library only; nothing here installs
anything or touches a registry other than the ones it starts on loopback."""
