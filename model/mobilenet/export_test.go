package mobilenet

// WriteRandomTFJS lets the external tests (which import the model package,
// and so cannot live in this one) build a network on seeded random weights.
var WriteRandomTFJS = writeRandomTFJS
