public enum OpsModule {}
