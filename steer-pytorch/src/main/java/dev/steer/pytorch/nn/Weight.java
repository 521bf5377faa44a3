package dev.steer.pytorch.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Bfloat16;

/**
 * One named tensor of a {@link Module}: its declared shape and its current value.
 *
 * <p>DJL's {@code Parameter} cannot be given a declared shape and later a value (nor a second
 * value), which loading a checkpoint over a config-built tree needs; this is the small holder that
 * can, and DJL optimisers work on its arrays directly.
 */
public final class Weight {
    private final String name;
    private final Shape shape;
    private NDArray value;
    private boolean bfloat16Bits;

    Weight(String name, Shape shape) {
        this.name = name;
        this.shape = shape;
    }

    /** The name inside its module (e.g. {@code weight}). */
    public String name() {
        return name;
    }

    /** The shape the module's config implies. */
    public Shape shape() {
        return shape;
    }

    /** True once a value was loaded or initialised. */
    public boolean isInitialized() {
        return value != null;
    }

    /**
     * The current value. @throws IllegalStateException when none was loaded, or when the weight is
     *     kept as raw bfloat16 bits (read those with {@link #valueFor})
     */
    public NDArray value() {
        if (value == null) {
            throw new IllegalStateException("weight '" + name + "' has no value: load or initialise the model first");
        }
        if (bfloat16Bits) {
            throw new IllegalStateException("weight '" + name + "' is kept as mapped bfloat16 bits; read it with valueFor(activation)");
        }
        return value;
    }

    /** Whether {@code array} is a conversion {@link #valueFor} made (rather than the kept value itself). */
    public boolean isConversion(NDArray array) {
        return array != value;
    }

    /** Whether the value is kept in another form than the one computed with (mapped bfloat16 bits). */
    public boolean isBfloat16Bits() {
        return bfloat16Bits;
    }

    /**
     * The value in the dtype of {@code activation}: the stored array itself when the dtypes agree,
     * otherwise a conversion owned by the activation's manager (so it lives only as long as the call
     * that needed it). Weights kept as bfloat16 bits are widened here.
     */
    public NDArray valueFor(NDArray activation) {
        return valueAs(activation.getDataType(), activation.getManager());
    }

    /** The value as {@code want}: the stored array itself, or a conversion owned by {@code scope}. */
    public NDArray valueAs(DataType want, NDManager scope) {
        if (value == null) {
            throw new IllegalStateException("weight '" + name + "' has no value: load or initialise the model first");
        }
        if (!bfloat16Bits && value.getDataType() == want) {
            return value;
        }
        NDArray converted;
        if (bfloat16Bits) {
            converted = Bfloat16.widen(value, shape, scope);
            if (want != DataType.FLOAT32) {
                converted = converted.toType(want, false);
            }
        } else {
            converted = value.toType(want, true);
        }
        converted.attach(scope);
        return converted;
    }

    /**
     * Keeps raw bfloat16 bits ([elements, 2] bytes, little-endian) as this weight's value, widened by
     * {@link #valueFor} on use.
     */
    public void setBfloat16Bits(NDArray bits) {
        if (bits.getShape().get(0) != shape.size() || bits.getShape().dimension() != 2 || bits.getShape().get(1) != 2
                || bits.getDataType() != DataType.UINT8) {
            throw new IllegalArgumentException("weight '" + name + "' needs " + shape.size() + " x 2 bytes, got " + bits.getShape()
                    + " " + bits.getDataType());
        }
        replace(bits);
        bfloat16Bits = true;
    }

    /** Replaces the value (closing the previous one); the shape must match the declared one. */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(shape)) {
            throw new IllegalArgumentException("weight '" + name + "' needs shape " + shape + ", got " + newValue.getShape());
        }
        replace(newValue);
        bfloat16Bits = false;
    }

    private void replace(NDArray newValue) {
        if (value != null && value != newValue) {
            value.close();
        }
        value = newValue;
    }
}
