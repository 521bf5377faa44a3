package dev.steer.cli;

import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.pytorch.inversion.ImageFit;
import dev.steer.pytorch.training.RelationArchitecture;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option value converters; a wrong value becomes picocli's one-line "Invalid value for option" message. */
final class Converters {
    private Converters() {
    }

    /** An image size in pixels. */
    record ImageSize(int width, int height) {
    }

    /** {@code WxH} or {@code N} (square), positive integers. */
    static final class Size implements ITypeConverter<ImageSize> {
        private static final Pattern FORM = Pattern.compile("(\\d{1,5})(?:[xX](\\d{1,5}))?");

        @Override
        public ImageSize convert(String value) {
            Matcher m = FORM.matcher(value.trim());
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a size: write WIDTHxHEIGHT (e.g. 512x512) or one number "
                        + "for a square");
            }
            int w = Integer.parseInt(m.group(1));
            int h = m.group(2) == null ? w : Integer.parseInt(m.group(2));
            if (w <= 0 || h <= 0) {
                throw new TypeConversionException("'" + value + "': width and height must be positive");
            }
            return new ImageSize(w, h);
        }
    }

    /** {@link SchedulerType#parse}. */
    static final class Scheduler implements ITypeConverter<SchedulerType> {
        @Override
        public SchedulerType convert(String value) {
            try {
                return SchedulerType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@link SpatialRelation#parse}. */
    static final class Relation implements ITypeConverter<SpatialRelation> {
        @Override
        public SpatialRelation convert(String value) {
            try {
                return SpatialRelation.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@link RelationArchitecture#parse}. */
    static final class Architecture implements ITypeConverter<RelationArchitecture> {
        @Override
        public RelationArchitecture convert(String value) {
            try {
                return RelationArchitecture.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code stretch} or {@code crop} ({@code center-crop}). */
    static final class Fit implements ITypeConverter<ImageFit> {
        @Override
        public ImageFit convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "stretch" -> ImageFit.STRETCH;
                case "crop", "center-crop" -> ImageFit.CENTER_CROP;
                default -> throw new TypeConversionException("'" + value + "': stretch or crop");
            };
        }
    }
}
