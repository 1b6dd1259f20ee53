// CodecsGPL: the x264 (GPL) encoder owner. Only commucat-bench links this target, never the
// commucat server binary, so the server stays MPL-2.0.
import CX264
public enum CodecsGPLModule {}
