package dev.steer.pytorch.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

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

    /** The current value. @throws IllegalStateException when none was loaded */
    public NDArray value() {
        if (value == null) {
            throw new IllegalStateException("weight '" + name + "' has no value: load or initialise the model first");
        }
        return value;
    }

    /** Replaces the value (closing the previous one); the shape must match the declared one. */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(shape)) {
            throw new IllegalArgumentException("weight '" + name + "' needs shape " + shape + ", got " + newValue.getShape());
        }
        if (value != null && value != newValue) {
            value.close();
        }
        value = newValue;
    }
}
