package dev.steer.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PNG bytes in memory are the file {@link PngImages#write} writes, text chunks included. */
class PngImagesTest {
    @TempDir
    Path tmp;

    @Test
    void encodedBytesAreTheWrittenFileWithItsTextChunks() throws Exception {
        BufferedImage image = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
        image.setRGB(2, 1, 0x12ab34);
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "a red circle above a blue square");
        text.put("seed", "7");
        byte[] png = PngImages.encode(image, text);
        Path file = tmp.resolve("a.png");
        PngImages.write(image, text, file);
        assertArrayEquals(Files.readAllBytes(file), png);
        assertEquals(text, PngImages.readText(file));
        assertEquals(0x12ab34, ImageIO.read(new ByteArrayInputStream(png)).getRGB(2, 1) & 0xffffff);
    }
}
