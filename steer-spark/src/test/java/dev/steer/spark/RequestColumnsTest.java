package dev.steer.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Reading request rows without Spark: types, defaults, ids, and bad values as the row's error. */
class RequestColumnsTest {
    private static final StructType CSV = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
            .add("seed", DataTypes.StringType).add("steps", DataTypes.StringType).add("steer", DataTypes.StringType)
            .add("comment", DataTypes.StringType);

    private static Row row(StructType schema, Object... values) {
        return new GenericRowWithSchema(values, schema);
    }

    @Test
    void stringValuesOfACsvFileParseAndUnknownColumnsAreIgnored() {
        RequestColumns c = RequestColumns.of(CSV);
        RequestColumns.Request r = c.read(row(CSV, "a1", "a red circle above a blue square", "7", "12", "no", "anything"));
        assertNull(r.error());
        assertEquals("a1", r.id());
        assertEquals(7L, r.seed());
        assertEquals(12, r.integer("steps"));
        assertEquals(false, r.bool("steer"));
    }

    @Test
    void badValuesBecomeTheRowsErrorNamingTheColumn() {
        RequestColumns c = RequestColumns.of(CSV);
        assertEquals("seed: not an integer: 'seven'", c.read(row(CSV, "a1", "a cat", "seven", null, null, null)).error());
        assertEquals("steer: not a boolean: 'maybe'", c.read(row(CSV, "a1", "a cat", "1", null, "maybe", null)).error());
        assertEquals("prompt: empty", c.read(row(CSV, "a1", " ", "1", null, null, null)).error());
        assertEquals("prompt: empty", c.read(row(CSV, "a1", null, "1", null, null, null)).error());
        assertTrue(c.read(row(CSV, "../etc/passwd", "a cat", "1", null, null, null)).error().startsWith("id: "));
        assertTrue(c.read(row(CSV, "a1", "x".repeat(RequestColumns.MAX_PROMPT + 1), "1", null, null, null)).error()
                .contains("longer than"));
    }

    @Test
    void rowsWithoutAnIdGetOneFromTheirValuesTheSameInEveryRun() {
        StructType s = new StructType().add("prompt", DataTypes.StringType).add("seed", DataTypes.LongType);
        RequestColumns c = RequestColumns.of(s);
        String a = c.read(row(s, "a cat left of a dog", 1L)).id();
        assertEquals(a, c.read(row(s, "a cat left of a dog", 1L)).id());
        assertNotEquals(a, c.read(row(s, "a cat left of a dog", 2L)).id());
        assertTrue(RequestColumns.ID_PATTERN.matcher(a).matches(), a);
        StructType numeric = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        assertEquals("42", RequestColumns.of(numeric).read(row(numeric, 42L, "a cat")).id());
    }

    @Test
    void aTableWithoutPromptOrWithAWrongTypeIsRefusedNamingTheColumn() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RequestColumns.of(new StructType().add("text", DataTypes.StringType)));
        assertTrue(e.getMessage().contains("no 'prompt' column"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RequestColumns.of(new StructType().add("prompt", DataTypes.StringType)
                .add("seed", DataTypes.BooleanType)));
        assertTrue(e.getMessage().contains("'seed'"), e.getMessage());
    }

    @Test
    void explicitRelationsParseTripletsAndRefuseWhatIsNotOne() {
        assertEquals(List.of(RelationTriplet.of("teddy bear", SpatialRelation.RIGHT_OF, "dog"),
                new RelationTriplet("circle", SpatialRelation.ABOVE, "circle", 0, 1)),
                ExplicitRelations.parse("teddy bear:to the right of:dog; circle:on top of:circle"));
        assertThrows(IllegalArgumentException.class, () -> ExplicitRelations.parse("cat above dog"));
        assertThrows(IllegalArgumentException.class, () -> ExplicitRelations.parse("cat:behind:dog"));
        assertThrows(IllegalArgumentException.class, () -> ExplicitRelations.parse(" ; "));
        assertThrows(IllegalArgumentException.class, () -> ExplicitRelations.parse("a:above:b;".repeat(17)));
        assertThrows(IllegalArgumentException.class, () -> ExplicitRelations.parse("a".repeat(ExplicitRelations.MAX_LENGTH + 1)));
    }
}
