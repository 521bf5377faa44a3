package dev.steer.core.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import javax.imageio.ImageReader;

/**
 * PNG files with text chunks ({@code tEXt}): how generated images carry their prompt, seed and
 * settings. Also converts decoder output (CHW floats in [-1, 1]) to images.
 */
public final class PngImages {
    private PngImages() {
    }

    /** Converts [3, H, W] values in [-1, 1] (row-major, channel-first) to an RGB image, clamping. */
    public static BufferedImage fromChw(float[] chw, int height, int width) {
        if (chw.length != 3 * height * width) {
            throw new IllegalArgumentException("need 3 x " + height + " x " + width + " values, got " + chw.length);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                int r = toByte(chw[i]);
                int g = toByte(chw[plane + i]);
                int b = toByte(chw[2 * plane + i]);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int toByte(float v) {
        float unit = (v / 2f + 0.5f);
        if (!(unit >= 0f)) {
            unit = 0f; // also NaN
        }
        return Math.round(Math.min(unit, 1f) * 255f);
    }

    /** Writes {@code image} as PNG with the given text entries (keys up to 79 Latin-1 characters). */
    public static void write(BufferedImage image, Map<String, String> text, Path file) throws IOException {
        byte[] png = encode(image, text);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.deleteIfExists(file);
        Files.write(file, png);
    }

    /**
     * The PNG file {@link #write} writes, as bytes (for images kept in tables or sent over the network
     * rather than written to a local file).
     */
    public static byte[] encode(BufferedImage image, Map<String, String> text) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        ImageWriter writer = writers.next();
        try {
            ImageTypeSpecifier type = ImageTypeSpecifier.createFromRenderedImage(image);
            IIOMetadata meta = writer.getDefaultImageMetadata(type, writer.getDefaultWriteParam());
            if (!text.isEmpty()) {
                IIOMetadataNode root = new IIOMetadataNode("javax_imageio_png_1.0");
                IIOMetadataNode textNode = new IIOMetadataNode("tEXt");
                for (Map.Entry<String, String> e : text.entrySet()) {
                    IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                    entry.setAttribute("keyword", e.getKey());
                    entry.setAttribute("value", e.getValue());
                    textNode.appendChild(entry);
                }
                root.appendChild(textNode);
                meta.mergeTree("javax_imageio_png_1.0", root);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, meta), writer.getDefaultWriteParam());
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /** Reads the text entries of a PNG file (what {@link #write} stored). */
    public static Map<String, String> readText(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(file + ": not an image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                IIOMetadata meta = reader.getImageMetadata(0);
                org.w3c.dom.Node root = meta.getAsTree("javax_imageio_png_1.0");
                for (org.w3c.dom.Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                    if ("tEXt".equals(n.getNodeName())) {
                        for (org.w3c.dom.Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
                            var attrs = e.getAttributes();
                            out.put(attrs.getNamedItem("keyword").getNodeValue(), attrs.getNamedItem("value").getNodeValue());
                        }
                    }
                }
            } finally {
                reader.dispose();
            }
        }
        return out;
    }
}
