"""Operations: keyword arguments in, a result model out; they never print, prompt or exit."""
