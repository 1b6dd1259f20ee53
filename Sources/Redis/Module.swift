public enum RedisModule {}
