public enum LedgerModule {}
