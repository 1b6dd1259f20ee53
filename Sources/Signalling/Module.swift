// Signalling: filled by the issue that owns this module (see docs/ARCHITECTURE.md).
public enum SignallingModule {}
