/**
 * Internal, not API (may change in any release): a minimal protobuf wire-format reader and writer for the few ONNX fields the backend needs
 * (ModelProto.graph; GraphProto node, initializer, input, output; NodeProto names and operator;
 * TensorProto shape and external data), copying every other field through byte for byte. No
 * protobuf library is needed.
 */
package dev.steer.onnx.internal.proto;
