package dev.steer.pytorch.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model component whose {@link Weight}s are named after the checkpoint keys
 * of the reference implementation ({@code down_blocks.0.resnets.1.conv1.weight}).
 *
 * <p>One module tree serves inference, gradients with respect to its inputs (steering) and
 * training of its own weights: forward methods are plain NDArray math, so autograd sees
 * everything, and {@link #namedParameters()} is what weight files, random initialisation and
 * optimisers work on.
 *
 * <p>Forward methods put the activation first in every binary operation so that intermediate
 * arrays attach to the caller's {@link NDManager} scope, never to the manager that owns the
 * weights.
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Weight> parameters = new LinkedHashMap<>();

    /** Registers a child module under its checkpoint name and returns it. */
    protected final <M extends Module> M child(String name, M module) {
        if (children.put(name, module) != null) {
            throw new IllegalStateException("duplicate child " + name);
        }
        return module;
    }

    /** Declares a parameter of this module. */
    protected final Weight parameter(String name, long... shape) {
        Weight p = new Weight(name, new Shape(shape));
        if (parameters.put(name, p) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        return p;
    }

    /** Direct children by name. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this tree, keyed by its dotted checkpoint name, in declaration order. */
    public Map<String, Weight> namedParameters() {
        Map<String, Weight> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Weight> out) {
        for (Map.Entry<String, Weight> e : parameters.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out);
        }
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Weight p : namedParameters().values()) {
            n += p.shape().size();
        }
        return n;
    }

    /**
     * Sets whether every parameter records gradients (training) or not (inference, steering).
     *
     * @throws IllegalStateException when gradients are asked of weights kept as mapped bfloat16 bits
     */
    public void setRequiresGradient(boolean requires) {
        for (Weight p : namedParameters().values()) {
            if (p.isBfloat16Bits()) {
                if (requires) {
                    throw new IllegalStateException("weights loaded as mapped bfloat16 cannot be trained: load them as FLOAT32");
                }
                continue;
            }
            p.value().setRequiresGradient(requires);
        }
    }

    /**
     * The value of a parameter in the dtype of {@code activation} (converted for the call when the
     * weights are kept in another dtype, see {@link Weight#valueFor}); fails clearly when weights were
     * never loaded.
     */
    protected static NDArray value(Weight p, NDArray activation) {
        return p.valueFor(activation);
    }

    /**
     * Releases a value {@link #value(Weight, NDArray)} converted for one op (a weight kept in another
     * dtype), right after the op: a model kept as bfloat16 or float16 then never holds more than a
     * layer's conversion at a time instead of a float32 copy of every layer until the call ends. Safe
     * under autograd: LibTorch's graph holds its own reference to what backward needs.
     */
    protected static void release(Weight p, NDArray value) {
        if (value != null && p.isConversion(value)) {
            value.close();
        }
    }

    /**
     * Moves an array derived from a weight (a reshaped view, say) into the activation's scope:
     * derived arrays are created in the weight's manager and would otherwise live as long as the model.
     */
    protected static NDArray inScopeOf(NDArray activation, NDArray derived) {
        derived.attach(activation.getManager());
        return derived;
    }

    /** Creates a float32 array in {@code manager} from Java values (helper for small constants). */
    protected static NDArray constant(NDManager manager, float[] values, Shape shape) {
        return manager.create(values, shape).toType(DataType.FLOAT32, false);
    }
}
