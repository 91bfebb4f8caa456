package ai.aether.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The vector shapes the kernels use: the widest float vector, and a byte vector of the same lane count. */
final class VectorShapes {
    /** Float lanes (16 on AVX-512). At least 8, so a 16-byte nibble group splits into whole vectors. */
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED.length() >= 16
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Bytes with one lane per float lane, for byte-to-float conversion. */
    static final VectorSpecies<Byte> BYTES = FLOATS.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    static final int LANES = FLOATS.length();

    private VectorShapes() {}
}
