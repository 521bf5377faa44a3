/**
 * The text encoders' tokenizers: {@link dev.steer.core.tokenizer.ClipTokenizer}, CLIP's byte-level BPE
 * (Stable Diffusion, and FLUX.1's first encoder), and {@link dev.steer.core.tokenizer.T5Tokenizer}, T5's
 * SentencePiece Unigram read from a {@code tokenizer.json} (FLUX.1's second encoder). Both produce a
 * {@link dev.steer.core.tokenizer.TokenizedPrompt}, which knows where each word's tokens sit so that
 * steering can find a word's attention maps.
 */
package dev.steer.core.tokenizer;
