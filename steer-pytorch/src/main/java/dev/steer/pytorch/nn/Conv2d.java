package dev.steer.pytorch.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;


/** {@code torch.nn.Conv2d} with square kernel, stride and symmetric padding, NCHW layout. */
public final class Conv2d extends Module {
    private final Weight weight;
    private final Weight bias;
    private final Shape stride;
    private final Shape padding;

    /** A convolution with bias. */
    public Conv2d(long in, long out, int kernel, int stride, int padding) {
        this.weight = parameter("weight", out, in, kernel, kernel);
        this.bias = parameter("bias", out);
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    /** Applies the convolution. */
    public NDArray forward(NDArray x) {
        NDArray w = value(weight, x);
        NDArray b = value(bias, x);
        NDArray out = ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, stride, padding, new Shape(1, 1)).singletonOrThrow();
        release(weight, w);
        release(bias, b);
        return out;
    }
}
