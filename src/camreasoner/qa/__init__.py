"""Question semantics: VQA generation, option meanings, question-to-primitive mapping, observation consistency."""
