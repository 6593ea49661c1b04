import ArgumentParser
import Transformer

/// How generated tokens are chosen; the defaults are greedy.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Softmax temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample only among the k most likely tokens (0: no limit).")
    var topK = 0

    @Option(help: "Sample only among the most likely tokens whose probabilities sum to p.")
    var topP: Float = 1

    @Option(help: "Seed of the sampler's random numbers.")
    var seed: UInt64 = 0

    var sampler: Sampler { Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed) }
}
