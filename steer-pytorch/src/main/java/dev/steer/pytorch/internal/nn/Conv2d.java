package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/**
 * {@code torch.nn.Conv2d} with square kernel, stride and symmetric padding, NCHW layout.
 *
 * <p>When a gradient must flow back to the input and the output channels are not a multiple of
 * {@value #OUTPUT_CHANNEL_BLOCK}, the convolution runs with zero filters appended up to the next
 * multiple and the extra channels are sliced off: LibTorch 2.7.1's oneDNN backward-data kernel
 * reads uninitialised padding for such channel counts on AVX2/AVX-512 CPUs and returns NaN input
 * gradients intermittently (mostly the first call for a shape: a 32-to-3 convolution failed in
 * about one of four fresh processes; pinned by {@code Conv2dTest}). The result and the gradients
 * of the real filters are unchanged; inference takes the plain path.
 */
public final class Conv2d extends Module {
    static final int OUTPUT_CHANNEL_BLOCK = 16;

    private final Weight weight;
    private final Weight bias;
    private final long outChannels;
    private final Shape stride;
    private final Shape padding;

    /** A convolution with bias. */
    public Conv2d(long in, long out, int kernel, int stride, int padding) {
        this.weight = parameter("weight", out, in, kernel, kernel);
        this.bias = parameter("bias", out);
        this.outChannels = out;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    /** Applies the convolution. */
    public NDArray forward(NDArray x) {
        NDArray w = value(weight, x);
        NDArray b = value(bias, x);
        NDArray out;
        long padded = -Math.floorDiv(-outChannels, OUTPUT_CHANNEL_BLOCK) * OUTPUT_CHANNEL_BLOCK;
        if (padded != outChannels && JniUtils.isGradMode() && x.hasGradient()) {
            Shape ws = w.getShape();
            NDArray wPad = inScopeOf(x, NDArrays.concat(new NDList(w,
                    x.getManager().zeros(new Shape(padded - outChannels, ws.get(1), ws.get(2), ws.get(3)), w.getDataType())), 0));
            NDArray bPad = inScopeOf(x, NDArrays.concat(new NDList(b, x.getManager().zeros(new Shape(padded - outChannels), b.getDataType())), 0));
            out = conv(x, wPad, bPad).get(":, :" + outChannels);
        } else {
            out = conv(x, w, b);
        }
        release(weight, w);
        release(bias, b);
        return out;
    }

    private NDArray conv(NDArray x, NDArray w, NDArray b) {
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, stride, padding, new Shape(1, 1)).singletonOrThrow();
    }
}
