package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The activation functions the supported model families use, by their config names. */
public enum Activations {
    /** x * sigmoid(x), the diffusers "silu"/"swish". */
    SILU("silu", "swish"),
    /** Exact (erf) GELU, HF "gelu". */
    GELU("gelu"),
    /** x * sigmoid(1.702 x), CLIP's "quick_gelu". */
    QUICK_GELU("quick_gelu"),
    /** The tanh approximation of GELU: HF "gelu_new" (T5), diffusers "gelu-tanh" (FLUX). */
    GELU_TANH("gelu_new", "gelu-tanh", "gelu_pytorch_tanh");

    private final String[] names;

    Activations(String... names) {
        this.names = names;
    }

    /** Applies the activation. */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case SILU -> x.mul(Activation.sigmoid(x));
            case GELU -> Activation.gelu(x);
            case QUICK_GELU -> x.mul(Activation.sigmoid(Scalars.mul(x, 1.702f)));
            case GELU_TANH -> geluTanh(x);
        };
    }

    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    private static NDArray geluTanh(NDArray x) {
        NDArray inner = Scalars.mul(x.add(Scalars.mul(x.mul(x).mul(x), 0.044715f)), (float) Math.sqrt(2 / Math.PI));
        return Scalars.mul(x, 0.5f).mul(inner.tanh().add(1f));
    }

    /** Looks an activation up by config name. @throws IllegalArgumentException naming the value */
    public static Activations parse(String name, String key) {
        for (Activations a : values()) {
            for (String n : a.names) {
                if (n.equalsIgnoreCase(name)) {
                    return a;
                }
            }
        }
        throw new IllegalArgumentException("unsupported " + key + " '" + name + "' (supported: silu, gelu, quick_gelu, gelu_new, gelu-tanh)");
    }
}
